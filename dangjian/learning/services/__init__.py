"""State changes of online learning and certificates, one module per seam: certificates (numbered certificates and
the class hook), material (online material of catalog courses, assignments), progress (heartbeats, effective time
and the online credit), policies (the minimum share and the caps)."""
