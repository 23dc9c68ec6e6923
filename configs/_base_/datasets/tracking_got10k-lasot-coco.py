# Training pairs from LaSOT + GOT-10k train + COCO (equal weights), 60k pairs per epoch;
# test on GOT-10k val. Paths follow each dataset's released layout under data_root
# (--cfg-options data_root=DIR moves all three: DIR/lasot, DIR/got10k, DIR/coco).
data_root = 'data/'
template_size, search_size = 112, 224
pair_settings = dict(template_size=template_size, search_size=search_size,
                     template_factor=2.0, search_factor=4.0, max_interval=200,
                     centre_jitter=3.0, scale_jitter=0.25)
train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='SeededSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='TrackingPairDataset',
        samples_per_epoch=60000,
        sources=[
            dict(type='LaSOTReader', root=data_root + 'lasot', subset='train'),
            dict(type='GOT10kReader', root=data_root + 'got10k', subset='train'),
            dict(type='COCOPairsReader', root=data_root + 'coco', split='train2017'),
        ],
        **pair_settings))
# read by mmlow.runner.tracking_test (tools/test.py): the sequences to track and how to score them
tracking_test = dict(reader=dict(type='GOT10kReader', root=data_root + 'got10k', subset='val'),
                     format='got10k')
