"""The organiser's papers: what the attendee list becomes on the seminar's day.

`roster` reads the workspace's final values once (with what is still waiting
for a reviewer); the workbook, the sign-in sheet, the badges, the lunch
receipts and the caterer's count are each drawn from that roster, and the
summary page in the review app shows its totals.
"""
