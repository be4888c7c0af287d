"""ASPire Desktop: an offline reader for the ASPire Hub's resources."""

__version__ = "0.1.0"
APP_NAME = "ASPire Desktop"
APP_ID = "aspire-desktop"
