"""formscan: scanned ARDTA inscription forms in, a clean attendee list out."""

__version__ = "0.1.0"
