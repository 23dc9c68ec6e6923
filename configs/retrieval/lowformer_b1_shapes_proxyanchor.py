# lowformer_b1_shapes.py with the proxy-based alternative to ArcFace: Proxy-Anchor loss
# (Kim et al., CVPR 2020; margin 0.1, alpha 32 as the paper). Its proxies learn ten times
# faster than the network, as the paper's recipe (x100 there, with a 20x lower base rate).
_base_ = './lowformer_b1_shapes.py'

model = dict(head=dict(_delete_=True, type='ProxyAnchorHead',
                       num_classes={{_base_.num_train_classes}},
                       in_channels={{_base_.embedding_dim}}, margin=0.1, alpha=32.))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=10.,
                                                                  decay_mult=0.)}))
