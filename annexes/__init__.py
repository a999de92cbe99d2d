"""The six annex forms of a delegated case (实施方案附件1–6), printed as PDF with xhtml2pdf."""
