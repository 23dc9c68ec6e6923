"""mmlow.benchmark.pipeline.Candidate: what one timed iteration does."""
import os

from mmlow.benchmark import pipeline


class _RecordingForward:
    """A built backend that runs on ``device`` and remembers where its inputs were."""

    def __init__(self, device):
        self.device = device
        self.precision = 'fp32'
        self.input_devices = []

    def __call__(self, inputs):
        self.input_devices.append(inputs.device.type)
        return inputs


def test_backbone_input_lives_where_the_backend_runs(repo_root, monkeypatch):
    """A CUDA backend's timed call must not include a host-to-device copy of its input: the
    input is moved once, at build time ('meta' stands in for the GPU here)."""
    forward = _RecordingForward('meta')
    built_from = []

    def fake_build(backend, module, example, precision=None, calibration=None):
        built_from.append(example.device.type)  # the eager reference gets its own device's
        return forward
    monkeypatch.setattr(pipeline, 'build_backend', fake_build)
    config = os.path.join(repo_root, 'configs/detection/retinanet_lowformer_b1_shapes.py')
    candidate = pipeline.Candidate(config, None, 'cuda', shape=(64, 64), backbone_only=True)
    candidate.run()
    candidate.run()
    assert built_from == ['cpu']
    assert forward.input_devices == ['meta', 'meta']
    assert candidate.input_shape == [1, 3, 64, 64] and candidate.macs > 0
