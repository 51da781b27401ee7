"""Reads a run folder's TensorBoard event files with TensorBoard's own EventAccumulator and prints
what it found as JSON: scalars {tag: [[step, value]]}, histograms {tag: [[step, buckets, limits]]},
images {tag: [[step, width, height, bytes]]}. Used by TensorBoardTest."""
import json
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

acc = EventAccumulator(sys.argv[1], size_guidance={"scalars": 0, "histograms": 0, "images": 0})
acc.Reload()
tags = acc.Tags()
print(json.dumps({
    "scalars": {t: [[e.step, e.value] for e in acc.Scalars(t)] for t in tags["scalars"]},
    "histograms": {t: [[e.step, list(e.histogram_value.bucket), list(e.histogram_value.bucket_limit)]
                       for e in acc.Histograms(t)] for t in tags["histograms"]},
    "images": {t: [[e.step, e.width, e.height, len(e.encoded_image_string)] for e in acc.Images(t)]
               for t in tags["images"]},
}))
