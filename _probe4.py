import time, warnings
warnings.filterwarnings('ignore')
import torch
import mmlow
from mmlow.models import LowFormer
from tests.conftest import randomize_
torch.set_num_threads(1)
b = randomize_(LowFormer(arch='b0', out_indices=(1,2,3))).eval()
b2 = LowFormer(arch='b0', out_indices=(1,2,3)).eval()
x = torch.randn(1,3,64,64)
with torch.no_grad():
  for m in (b, b2, b):
    for i in range(3):
        t=time.time(); o = m(x); print(round(time.time()-t,3), end=' ')
    print(float(o[-1].abs().max()))
  torch.set_flush_denormal(True)
  for i in range(3):
      t=time.time(); o = b(x); print(round(time.time()-t,3), end=' ')
