# Inherited by every mmlow config: importing mmlow registers its modules in mmengine's root
# registries (found from the mmdet / mmseg / mmpretrain scopes) and applies the stack fixes,
# so these configs also run under OpenMMLab's own tools/train.py.
custom_imports = dict(imports=['mmlow'], allow_failed_imports=False)
