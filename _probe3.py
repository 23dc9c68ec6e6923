import time, warnings
warnings.filterwarnings('ignore')
import torch, cProfile, pstats
import mmlow
from mmlow.models import LowFormer
from mmlow.benchmark import build_backend
from tests.conftest import randomize_
t=time.time(); b = randomize_(LowFormer(arch='b0', out_indices=(1,2,3))).eval(); print('build', time.time()-t)
x = torch.randn(1,3,64,64)
cProfile.run("build_backend('cpu', b, x)", '/tmp/prof')
pstats.Stats('/tmp/prof').sort_stats('cumtime').print_stats(15)
