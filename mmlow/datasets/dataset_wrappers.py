"""The wrapper mmlow's runner puts around every dataset it builds."""
from mmlow.errors import DataError
from mmlow.registry import DATASETS
from .samplers import seeded_randomness
from .validation import corrupt_image_error, unreadable_image


@DATASETS.register_module()
class SeededDataset:
    """``dataset`` with two guarantees that mmengine's datasets do not give:

    - a sample whose index carries a seed (the seeded samplers') is augmented from that seed
      alone; datasets that draw from the seed themselves (``seeds_itself``) get the index as
      it is;
    - a sample that fails on an unreadable image stops the run with an error naming the file.

    Everything else (length, ``metainfo``, ``get_data_info`` ...) is the wrapped dataset's.
    """

    def __init__(self, dataset):
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getattr__(self, name):
        if name == 'dataset':  # not set yet (unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def __getitem__(self, index):
        seed = getattr(index, 'seed', None)
        if seed is None or getattr(self.dataset, 'seeds_itself', False):
            return self._sample(index)
        with seeded_randomness(seed):
            return self._sample(int(index))

    def _sample(self, index):
        try:
            return self.dataset[index]
        except DataError:
            raise
        except Exception as exc:
            get_data_info = getattr(self.dataset, 'get_data_info', None)
            path = unreadable_image(get_data_info(int(index))) if get_data_info else None
            if path is None:
                raise
            raise corrupt_image_error(path, exc) from exc
