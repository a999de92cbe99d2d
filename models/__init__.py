"""The domain model; importing this package registers every table on the metadata."""

from models.agent import Agent, AgentPhoto, AgentTraining
from models.applicant import Applicant
from models.applicant_center import ApplicantCenter
from models.audit_log import AuditHead, AuditLog
from models.calendar import HolidayDay, HolidayYear
from models.case import Case, CaseExtension, CaseFee, CaseHandoff, CaseLog, CaseMaterial
from models.case_centers import keep_in_step
from models.center import Center
from models.complaint import Complaint
from models.department import Department
from models.evaluation import Evaluation, EvaluationLink, FollowUp
from models.export import ExportChunk, ExportJob, ExportJobCase
from models.service_item import ServiceItem, ServiceItemMaterial
from models.user import User

CENTER_COPIES = (Evaluation, FollowUp, Complaint, CaseExtension)
keep_in_step(Case, CENTER_COPIES)

__all__ = [
    "Agent",
    "AgentPhoto",
    "AgentTraining",
    "Applicant",
    "ApplicantCenter",
    "AuditHead",
    "AuditLog",
    "Case",
    "CaseExtension",
    "CaseFee",
    "CaseHandoff",
    "CaseLog",
    "CaseMaterial",
    "Center",
    "Complaint",
    "Department",
    "Evaluation",
    "EvaluationLink",
    "ExportChunk",
    "ExportJob",
    "ExportJobCase",
    "FollowUp",
    "HolidayDay",
    "HolidayYear",
    "ServiceItem",
    "ServiceItemMaterial",
    "User",
]
