"""kind: feature_map: convolution and pooling of small 2-D maps, worked cell by cell."""
