# LowFormer-Track (the reference): LowFormer-B1.5 tracker trained on LaSOT + GOT-10k + COCO
# with the authors' schedule, tested on GOT-10k val.
_base_ = ['../_base_/models/lowformer-track_b15.py',
          '../_base_/datasets/tracking_got10k-lasot-coco.py',
          '../_base_/schedules/tracking_adamw_300e.py']
