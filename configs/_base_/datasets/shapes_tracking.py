# The embedded synthetic tracking sequences (GOT-10k layout, generated under
# data/shapes_tracking on first use): pairs from the train split, tracking test on the held-out
# val split. Crop sizes follow the CPU preset (template 64, search 128).
data_root = 'data/'
shapes_tracking = dict(type='ShapesTrackingReader', root=data_root + 'shapes_tracking',
                       num_train=120, num_val=20, length=60, frame_size=(160, 160), seed=0)
train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    sampler=dict(type='SeededInfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='TrackingPairDataset', sources=[dict(shapes_tracking, subset='train')],
                 samples_per_epoch=60000, template_size=64, search_size=128,
                 template_factor=2.0, search_factor=4.0, max_interval=60, centre_jitter=3.0,
                 scale_jitter=0.25))
tracking_test = dict(reader=dict(shapes_tracking, subset='val'), format='got10k')
