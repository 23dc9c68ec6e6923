from .readers import (COCOPairsReader, GOT10kReader, LaSOTReader, TrackingDataError,
                      TrackingNetReader, TrackingSequence, read_image, write_got10k_meta)

__all__ = [
    'COCOPairsReader', 'GOT10kReader', 'LaSOTReader', 'TrackingDataError', 'TrackingNetReader',
    'TrackingSequence', 'read_image', 'write_got10k_meta'
]
