"""memcore: an executable, C-struct-faithful model of Linux memory descriptors."""
