"""The home page (工作台) shows each user their own work first: the 三员's own figures (`admins`) and, for a user
linked to a member, their own panel (`member`)."""

from __future__ import annotations

from dangjian.workbench.home.admins import AdminPanel, AdminTile, admin_home
from dangjian.workbench.home.member import MemberHome, RecordLine, member_home

__all__ = ["AdminPanel", "AdminTile", "MemberHome", "RecordLine", "admin_home", "member_home"]
