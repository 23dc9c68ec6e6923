"""Track one object through a video (or a folder of frames) and write the video with the box
drawn on every frame."""
import argparse
import sys

import mmlow  # noqa: F401
from mmlow.runner import load_config, resolve_checkpoint, run_cli
from mmlow.apis.tracking import track_video


def parse_box(text: str):
    values = [float(v) for v in text.split(',')]
    if len(values) != 4 or values[2] <= 0 or values[3] <= 0:
        raise argparse.ArgumentTypeError('--init takes x,y,w,h with positive w and h')
    return values


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config')
    parser.add_argument('checkpoint', help='checkpoint file, or a work dir to use its latest')
    parser.add_argument('source', help='video file or folder of frames')
    parser.add_argument('--init', type=parse_box, required=True,
                        help='the target on the first frame: x,y,w,h in pixels')
    parser.add_argument('--out', default='track_demo.mp4')
    parser.add_argument('--fps', type=float, default=25.0)
    args = parser.parse_args(argv)

    def track():
        boxes = track_video(load_config(args.config), resolve_checkpoint(args.checkpoint),
                            args.source, args.init, args.out, args.fps)
        print(f'{len(boxes)} frames tracked, written to {args.out}')
        return 0
    return run_cli(track, user_errors=(FileNotFoundError, ValueError))


if __name__ == '__main__':
    sys.exit(main())
