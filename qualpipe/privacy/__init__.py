"""Personal data: detection in Danish text and consistent pseudonymisation."""
