# Inherited by every mmlow config: importing mmlow registers its modules in mmengine's root
# registries (found from the mmdet / mmseg / mmpretrain scopes), changing nothing of theirs,
# so these configs also run under OpenMMLab's own tools/train.py.
custom_imports = dict(imports=['mmlow'], allow_failed_imports=False)
# mmengine's Runner with mmlow's guarantees (per-sample seeds reach the augmentation, bad data
# named, CPU process groups): mmlow/engine/runner.py
runner_type = 'MMLowRunner'
