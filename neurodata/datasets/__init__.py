"""Named public datasets, found locally (``data_dir`` or ``NEURODATA_DATA``), never downloaded silently."""
