"""Index: folder ownership, the verified plain-data files, and building or refreshing them."""
