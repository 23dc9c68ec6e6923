"""The cheap parts of tools/install.sh, so that every CI run exercises the mmcv source path.

The whole fresh-machine build (about 17 minutes) is `make install-check`, run before a release.
"""
import os
import re
import shutil
import subprocess
import sys

import pytest

INSTALL = os.path.join('tools', 'install.sh')


def run_install(repo_root, *args, **env):
    return subprocess.run(['bash', INSTALL, *args], cwd=repo_root, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=600)


def error_lines(result):
    return [line for line in result.stderr.splitlines() if line.startswith('[install] error:')]


def test_mmcv_sdist_fetches_and_patches_for_cxx20(repo_root, tmp_path):
    result = run_install(repo_root, 'fetch-mmcv', str(tmp_path), VENV=sys.prefix)
    assert result.returncode == 0, result.stdout + result.stderr
    setup = (tmp_path / 'mmcv-2.1.0' / 'setup.py').read_text()
    assert '-std=c++20' in setup
    assert not re.search(r'-std=c\+\+1[47]', setup)
    # the patched tree is a buildable source: the extension sources are there
    assert (tmp_path / 'mmcv-2.1.0' / 'mmcv' / 'ops' / 'csrc' / 'pytorch' / 'nms.cpp').is_file()


def test_unreachable_index_stops_at_the_download_with_one_line(repo_root, tmp_path):
    result = run_install(repo_root, 'fetch-mmcv', str(tmp_path), VENV=sys.prefix,
                         PIP_CONFIG_FILE=os.devnull, PIP_INDEX_URL='http://127.0.0.1:9/simple',
                         PIP_FIND_LINKS='', PIP_RETRIES='0', PIP_TIMEOUT='2')
    assert result.returncode != 0
    errors = error_lines(result)
    assert len(errors) == 1, result.stderr
    assert 'downloading the mmcv 2.1.0 sdist failed' in errors[0]
    assert 'reachable' in errors[0]
    # it stopped there: nothing was unpacked or patched
    assert not (tmp_path / 'mmcv-2.1.0').exists()
    assert 'patched source' not in result.stdout


@pytest.mark.parametrize('version', ['3.12', '3.10'])
def test_python_other_than_311_is_refused_before_anything_is_made(repo_root, tmp_path, version):
    fake = tmp_path / f'python{version}'
    fake.write_text(f'#!/bin/sh\necho {version}\n')
    fake.chmod(0o755)
    venv = tmp_path / 'venv'
    result = run_install(repo_root, VENV=str(venv), PYTHON=str(fake))
    assert result.returncode != 0
    errors = error_lines(result)
    assert len(errors) == 1, result.stderr
    assert f'Python {version}' in errors[0] and 'needs 3.11' in errors[0]
    assert not venv.exists()


def test_missing_python_is_named(repo_root, tmp_path):
    result = run_install(repo_root, VENV=str(tmp_path / 'venv'), PYTHON='python3.11-not-here')
    assert result.returncode != 0
    errors = error_lines(result)
    assert len(errors) == 1 and "'python3.11-not-here' not found" in errors[0]


def test_unknown_command_is_refused(repo_root):
    result = run_install(repo_root, 'frobnicate')
    assert result.returncode != 0
    assert "unknown command 'frobnicate'" in error_lines(result)[0]



MMCV_WHEEL = 'mmcv-2.1.0-cp311-cp311-linux_x86_64.whl'
# A venv whose python answers install.sh's questions from the environment: the GPUs torch sees
# (FAKE_GPU, a line of gpu_ops), the ops of the installed mmcv (FAKE_INSTALLED_OPS); it has no
# TensorRT. Its pip writes down what it was asked to do; "download" leaves an mmcv sdist of one
# setup.py, "wheel" (the mmcv build) prints the build settings it was given, then fails, and
# TensorRT is not found. tools/gpu_check.py prints its arguments and the install time.
FAKE_PYTHON = '''#!/bin/sh
case $1 in
    -m) echo "$*" >> "$(dirname "$0")/pip.log"
        previous=
        for arg; do
            case $arg in
                wheel) building=1 ;;
                requirements/gpu.txt) echo "ERROR: No matching distribution found" >&2; exit 1 ;;
            esac
            [ "$previous" = -d ] && sdist_dir=$arg
            previous=$arg
        done
        if [ -n "$sdist_dir" ]; then
            mkdir -p "$sdist_dir/mmcv-2.1.0"
            echo "extra_compile_args = ['-std=c++17']" > "$sdist_dir/mmcv-2.1.0/setup.py"
            tar czf "$sdist_dir/mmcv-2.1.0.tar.gz" -C "$sdist_dir" mmcv-2.1.0
            rm -r "$sdist_dir/mmcv-2.1.0"
        elif [ -n "$building" ]; then
            echo "FORCE_CUDA=$FORCE_CUDA" "TORCH_CUDA_ARCH_LIST=$TORCH_CUDA_ARCH_LIST" \\
                "CUDA_HOME=$CUDA_HOME"
            echo "error: the build failed"
            exit 1
        fi ;;
    -c) case $2 in *tensorrt*) exit 1 ;; esac
        echo "$FAKE_INSTALLED_OPS" ;;
    -) cat > /dev/null; echo "$FAKE_GPU" ;;
    tools/gpu_check.py) echo "gpu_check.py $* MMLOW_INSTALL_SECONDS=$MMLOW_INSTALL_SECONDS" ;;
esac
'''


def write_script(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)


@pytest.fixture
def fake_machine(tmp_path):
    """A fake venv, a CUDA 13.0 toolkit, nvidia-smi (compute capability FAKE_CAP) and a wheel
    cache holding the CPU wheel at its top (as prebuilt folders do) and two CUDA builds."""
    write_script(tmp_path / 'venv' / 'bin' / 'python', FAKE_PYTHON)
    write_script(tmp_path / 'cuda' / 'bin' / 'nvcc',
                 '#!/bin/sh\necho "Cuda compilation tools, release $FAKE_NVCC, V$FAKE_NVCC.88"\n')
    write_script(tmp_path / 'bin' / 'nvidia-smi', '#!/bin/sh\necho "$FAKE_CAP"\n')
    cache = tmp_path / 'cache'
    for folder in ('', 'cuda13.0-sm80', 'cuda13.0-sm90'):
        (cache / folder).mkdir(parents=True, exist_ok=True)
        (cache / folder / MMCV_WHEEL).write_text('')
    return dict(VENV=str(tmp_path / 'venv'), CUDA_HOME=str(tmp_path / 'cuda'),
                MMLOW_CACHE=str(cache), MMCV_WHEEL_DIR='', MMCV_OPS='', FAKE_NVCC='13.0',
                PATH=f'{tmp_path / "bin"}:{os.environ["PATH"]}')


def mmcv_plan(repo_root, machine, **env):
    result = run_install(repo_root, 'mmcv-plan', **{**machine, **env})
    assert result.returncode == 0, result.stdout + result.stderr
    plan = dict(line.split(' ', 1) for line in result.stdout.splitlines()
                if not line.startswith('[install]'))
    return plan, result.stdout


def test_a_gpu_with_its_toolkit_plans_a_cuda_build_for_its_archs(repo_root, fake_machine):
    plan, _ = mmcv_plan(repo_root, fake_machine, FAKE_GPU='cuda 8.6;8.9 13.0')
    cache = fake_machine['MMLOW_CACHE']
    assert plan == dict(ops='cuda', flavour='cuda13.0-sm8689',
                        toolkit=fake_machine['CUDA_HOME'], action='build',
                        wheel=os.path.join(cache, 'cuda13.0-sm8689', MMCV_WHEEL))
    # a cached build of that flavour is taken, and never the CPU wheel at the cache's top
    plan, _ = mmcv_plan(repo_root, fake_machine, FAKE_GPU='cuda 9.0 13.0')
    assert plan['action'] == 'install'
    assert plan['wheel'] == os.path.join(cache, 'cuda13.0-sm90', MMCV_WHEEL)


def test_no_gpu_plans_the_cpu_wheel(repo_root, fake_machine):
    plan, _ = mmcv_plan(repo_root, fake_machine, FAKE_GPU='cpu')
    assert plan == dict(ops='cpu', flavour='cpu', toolkit='-', action='install',
                        wheel=os.path.join(fake_machine['MMLOW_CACHE'], MMCV_WHEEL))
    plan, _ = mmcv_plan(repo_root, fake_machine, FAKE_GPU='cpu', FAKE_INSTALLED_OPS='cpu')
    assert plan['action'] == 'keep'


def test_a_toolkit_of_another_cuda_major_falls_back_to_cpu_ops_and_says_why(repo_root,
                                                                            fake_machine):
    plan, stdout = mmcv_plan(repo_root, fake_machine, FAKE_GPU='cuda 8.6 13.0', FAKE_NVCC='12.8')
    assert plan['ops'] == 'cpu-toolkit-mismatch' and plan['flavour'] == 'cpu'
    assert (f'found nvcc 12.8 ({fake_machine["CUDA_HOME"]}/bin/nvcc), but torch is built for '
            'CUDA 13.0: install the CUDA 13.0 toolkit or point CUDA_HOME at it') in stdout
    assert 'building CPU ops meanwhile' in stdout
    # another minor version of the same major is compatible
    plan, _ = mmcv_plan(repo_root, fake_machine, FAKE_GPU='cuda 8.6 13.0', FAKE_NVCC='13.1')
    assert plan['flavour'] == 'cuda13.0-sm86'


def test_a_gpu_without_a_toolkit_falls_back_to_cpu_ops(repo_root, fake_machine, tmp_path):
    plan, stdout = mmcv_plan(repo_root, fake_machine, FAKE_GPU='cuda 8.6 13.0',
                             CUDA_HOME=str(tmp_path / 'no-cuda'))
    assert plan['ops'] == 'cpu-no-toolkit' and plan['flavour'] == 'cpu'
    assert 'install the CUDA 13.0 toolkit' in stdout


def test_the_toolkit_of_the_nvcc_on_path_is_used_where_its_headers_are(repo_root, fake_machine,
                                                                        tmp_path):
    """Without CUDA_HOME, the toolkit of the nvcc on PATH; but a wrapper script outside its
    toolkit (as /usr/local/bin/nvcc can be) is no toolkit, as it has no CUDA headers."""
    machine = dict(fake_machine, CUDA_HOME='', CUDA_PATH='',
                   PATH=f'{tmp_path / "cuda" / "bin"}:{fake_machine["PATH"]}')
    (tmp_path / 'cuda' / 'include').mkdir()
    (tmp_path / 'cuda' / 'include' / 'cuda_runtime.h').write_text('')
    plan, _ = mmcv_plan(repo_root, machine, FAKE_GPU='cuda 8.6 13.0')
    assert plan['ops'] == 'cuda' and plan['toolkit'] == str(tmp_path / 'cuda')
    (tmp_path / 'cuda' / 'include' / 'cuda_runtime.h').unlink()
    plan, _ = mmcv_plan(repo_root, machine, FAKE_GPU='cuda 8.6 13.0')
    assert plan['toolkit'] != str(tmp_path / 'cuda')


def test_a_venv_moved_to_another_gpu_gets_the_mmcv_of_that_gpu(repo_root, fake_machine):
    """CUDA ops are built for some GPU architectures: the venv records which, and the install's
    stamp changes with the GPU, so the next install replaces them."""
    venv = fake_machine['VENV']
    first = run_install(repo_root, **fake_machine, FAKE_GPU='cuda 8.0 13.0', FAKE_CAP='8.0')
    assert first.returncode == 0, first.stdout + first.stderr
    with open(os.path.join(venv, '.mmlow-mmcv-flavour')) as f:
        assert f.read().strip() == 'cuda13.0-sm80'
    again = run_install(repo_root, **fake_machine, FAKE_GPU='cuda 8.0 13.0', FAKE_CAP='8.0',
                        FAKE_INSTALLED_OPS='cuda')
    assert 'is up to date' in again.stdout
    os.remove(os.path.join(venv, 'bin', 'pip.log'))
    moved = run_install(repo_root, **fake_machine, FAKE_GPU='cuda 9.0 13.0', FAKE_CAP='9.0',
                        FAKE_INSTALLED_OPS='cuda')
    assert moved.returncode == 0, moved.stdout + moved.stderr
    with open(os.path.join(venv, 'bin', 'pip.log')) as f:
        assert os.path.join('cuda13.0-sm90', MMCV_WHEEL) in f.read()
    with open(os.path.join(venv, '.mmlow-mmcv-flavour')) as f:
        assert f.read().strip() == 'cuda13.0-sm90'


@pytest.mark.parametrize('gpu, hint', [
    ('cuda 8.6 13.0', "compiling mmcv's CUDA ops failed"),
    ('cpu', 'compiling mmcv failed'),
])
def test_a_failed_mmcv_build_names_what_to_check(repo_root, fake_machine, tmp_path, gpu, hint):
    """The CUDA build gets its GPU's architectures and the toolkit that was checked; when it
    fails, the message names that nvcc and those architectures, the CPU build's g++."""
    shutil.rmtree(tmp_path / 'cache')
    result = run_install(repo_root, **fake_machine, FAKE_GPU=gpu, TMPDIR=str(tmp_path))
    assert result.returncode != 0
    errors = error_lines(result)
    assert len(errors) == 1 and hint in errors[0], result.stderr
    flavour = 'cpu' if gpu == 'cpu' else 'cuda13.0-sm86'
    build_log = tmp_path / 'cache' / flavour / 'build.log'
    assert str(build_log) in errors[0]
    settings = build_log.read_text().splitlines()[0]
    if gpu == 'cpu':
        assert 'g++' in errors[0] and settings.startswith('FORCE_CUDA= TORCH_CUDA_ARCH_LIST= ')
    else:
        cuda_home = fake_machine['CUDA_HOME']
        assert f'nvcc {cuda_home}/bin/nvcc (CUDA 13.0)' in errors[0]
        assert 'TORCH_CUDA_ARCH_LIST=8.6' in errors[0] and 'MMCV_OPS=cpu' in errors[0]
        assert settings == f'FORCE_CUDA=1 TORCH_CUDA_ARCH_LIST=8.6 CUDA_HOME={cuda_home}'
    assert not list(tmp_path.glob('mmlow-mmcv.*'))  # the work folder went with the failure


def test_gpu_check_sh_installs_into_venv_and_hands_the_install_time_on(repo_root, fake_machine):
    """tools/gpu_check.sh: the install and the check use $VENV; TensorRT gets one quick try
    (offline it must not retry for minutes) and a clear line when it does not install; the
    check gets the install's seconds for its report."""
    result = subprocess.run(['bash', os.path.join('tools', 'gpu_check.sh'), '--budget-min', '5'],
                            cwd=repo_root, capture_output=True, text=True, timeout=120,
                            env={**os.environ, **fake_machine, 'FAKE_GPU': 'cpu'})
    assert result.returncode == 0, result.stdout + result.stderr
    venv = fake_machine['VENV']
    assert os.path.isfile(os.path.join(venv, '.mmlow-mmcv-flavour'))
    with open(os.path.join(venv, 'bin', 'pip.log')) as f:
        tensorrt = [line for line in f if 'requirements/gpu.txt' in line]
    assert len(tensorrt) == 1 and '--retries 1 --timeout 10' in tensorrt[0]
    assert '[gpu-check]   pip: ERROR: No matching distribution found' in result.stdout
    assert '[gpu-check] TensorRT did not install' in result.stdout
    assert re.search(r'^gpu_check\.py tools/gpu_check\.py --budget-min 5 '
                     r'MMLOW_INSTALL_SECONDS=\d+$', result.stdout, re.M), result.stdout
