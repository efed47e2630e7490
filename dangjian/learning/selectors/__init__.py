"""Reads of online learning and certificates: certificates (lists, the public check), courses (what a member may
watch, their progress, the staff's overview)."""
