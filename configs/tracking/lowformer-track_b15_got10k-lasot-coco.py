_base_ = ['./_base_/lowformer-track_b15.py', './_base_/data_got10k-lasot-coco.py',
          './_base_/schedule_reference.py']
