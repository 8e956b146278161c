"""Layer types of other libraries and their archspec spelling, for the hint of an unknown type: a close
spelling ('did you mean avgpool2d?') is not the same layer as ``global_avgpool``."""
from __future__ import annotations

import re

# name as other libraries (Keras, papers, PyTorch classes) write it -> (archspec type, what to write)
EQUIVALENTS = {
    **{k: ("adaptive_avgpool2d", "type: adaptive_avgpool2d with output_size: 1 (global average pooling)")
       for k in ("globalavgpool", "globalavgpool2d", "globalaveragepool", "globalaveragepooling",
                 "globalaveragepooling2d", "gap", "globalpool", "adaptiveavgpool")},
    **{k: ("linear", "type: linear (a fully connected layer)")
       for k in ("dense", "fc", "fullyconnected", "fullyconnectedlayer", "innerproduct")},
    **{k: ("conv2d", "type: conv2d") for k in ("conv", "convolution", "convolution2d")},
    **{k: ("maxpool2d", "type: maxpool2d") for k in ("maxpool", "maxpooling", "maxpooling2d", "pool")},
    **{k: ("avgpool2d", "type: avgpool2d") for k in ("avgpool", "averagepooling", "averagepooling2d")},
    **{k: ("batchnorm2d", "type: batchnorm2d") for k in ("batchnorm", "bn", "batchnormalization")},
}


def equivalent(tag, known) -> str | None:
    """'write type: adaptive_avgpool2d with output_size: 1 ...' for a type another library names so, when that
    archspec type is among ``known`` (the types allowed where the tag stands); None otherwise."""
    if not isinstance(tag, str):
        return None
    found = EQUIVALENTS.get(re.sub(r"[^a-z0-9]", "", tag.lower()))
    return f"write {found[1]}" if found and found[0] in known and found[0] != tag else None
