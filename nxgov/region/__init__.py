"""The region as a whole: the combined plan and apply across the groups, and ``nxgov status``."""
