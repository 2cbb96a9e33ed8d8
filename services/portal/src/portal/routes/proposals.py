"""(placeholder: pages of this area are being built)"""

from __future__ import annotations

from fastapi import APIRouter

from portal.nav import NavItem

router = APIRouter()
NAV: tuple[NavItem, ...] = ()
