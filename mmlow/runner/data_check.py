"""``tools/check_data.py``: read every image and annotation a config's datasets use, once, and
report every bad file together (a run stops at the first, possibly hours in)."""
import os
import sys
from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Tuple

from mmengine.config import Config
from mmengine.registry import DATASETS, init_default_scope
from tqdm import tqdm

from mmlow.config import config_scope
from mmlow.datasets.check import dataset_files, find_bad_files, sequences_files
from mmlow.errors import UserError

SPLITS = ('train', 'val', 'test')


@dataclass
class DataReport:
    files: Dict[str, int] = field(default_factory=dict)            # split -> files listed
    bad_files: List[Tuple[str, str, str]] = field(default_factory=list)  # split, path, why
    unreadable: List[Tuple[str, str]] = field(default_factory=list)      # split, why

    @property
    def clean(self) -> bool:
        return not self.bad_files and not self.unreadable

    def format(self) -> str:
        lines = []
        for split, count in self.files.items():
            bad = [(path, why) for s, path, why in self.bad_files if s == split]
            lines.append(f'{split}: {count} files read, {len(bad)} bad')
            lines.extend(f'  {path}: {why}' for path, why in bad)
        for split, why in self.unreadable:
            lines.append(f'{split}: the dataset cannot be read: {why}')
        lines.append('all files are usable' if self.clean else
                     'fix or remove the files above (or the annotations that list them); '
                     'to leave unreadable training images out instead, set '
                     'corrupt_images="skip" on the dataset')
        return '\n'.join(lines)


def _split_files(cfg: Config, split: str) -> list:
    """The files of one split, or [] when the config has no such split."""
    files = []
    loader = cfg.get(f'{split}_dataloader')
    if loader:
        files.extend(dataset_files(DATASETS.build(loader['dataset'])))
    if split == 'test' and cfg.get('tracking_test'):
        files.extend(sequences_files(DATASETS.build(dict(cfg.tracking_test.reader))))
    return files


def check_config_data(cfg: Config, splits: Sequence[str] = SPLITS,
                      workers: int = os.cpu_count() or 1, progress: bool = True) -> DataReport:
    init_default_scope(config_scope(cfg))
    report = DataReport()
    listed = {}
    for split in splits:
        try:
            files = _split_files(cfg, split)
        except UserError as exc:  # names the annotation file or folder at fault
            report.unreadable.append((split, str(exc)))
            continue
        if files or cfg.get(f'{split}_dataloader'):
            report.files[split] = len(set(files))
            listed[split] = files
    everything = [item for files in listed.values() for item in files]
    # disable=None: no bar when stderr is not a terminal (logs, CI)
    with tqdm(total=len(set(everything)), desc='Reading files', unit='file', file=sys.stderr,
              disable=None if progress else True) as bar:
        bad = dict(find_bad_files(everything, workers, bar.update))
    for split, files in listed.items():
        for path in dict.fromkeys(path for path, _ in files):
            if path in bad:
                report.bad_files.append((split, path, bad[path]))
    return report
