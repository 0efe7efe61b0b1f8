"""The course as a static website: `make book` stages the stored notebooks and builds them with Sphinx + MyST-NB."""
