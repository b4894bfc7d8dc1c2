"""Stages 3–4: the call for applications (征集) and the training event (宣贯会暨培训)."""
from __future__ import annotations

from .models import CallPublication, TrainingEvent, TrainingMaterial, TrainingSignup
from .publication import call_data, publications, record_publication
from .training import (AreaRow, Material, announce, attendance_report, event, event_data, invite_card, record_attendance,
                       require_event, send_materials, sign_up, signups)

__all__ = ["AreaRow", "Material", "TrainingMaterial", "CallPublication", "TrainingEvent", "TrainingSignup", "announce", "attendance_report",
           "call_data", "event", "event_data", "invite_card", "publications", "record_attendance",
           "record_publication", "require_event", "send_materials", "sign_up", "signups"]
