"""The Qt user interface, on top of :mod:`aspire_desktop.core`."""
