import time, warnings
warnings.filterwarnings('ignore')
import torch
import mmlow
from mmengine.config import Config
from mmengine.registry import init_default_scope, MODELS
from mmlow.benchmark import BackendModel, synthetic_batch
from tests.conftest import randomize_
cfg = Config.fromfile('configs/detection/retinanet_lowformer_b1_shapes.py')
init_default_scope('mmdet')
model = MODELS.build(cfg.model)
randomize_(model).eval()
model.bbox_head.test_cfg['score_thr'] = 0.0
data = synthetic_batch('mmdet', (128, 128), 2)
with torch.inference_mode():
    ref = model.test_step(data)
print(ref[0].pred_instances.bboxes[:3], ref[0].pred_instances.scores[:3])
for b in ['cpu', 'torchscript', 'onnxruntime', 'openvino']:
    t = time.time()
    bm = BackendModel(model, b)
    out = bm.test_step(data)
    print(b, time.time()-t, bm.built_last_step, out[0].pred_instances.bboxes[:3], out[0].pred_instances.scores[:3])
    t = time.time(); out = bm.test_step(data); print('again', time.time()-t, bm.built_last_step)
