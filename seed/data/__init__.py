"""The demo data set as fixed data: places, service items, people, and the shape of the case load."""
