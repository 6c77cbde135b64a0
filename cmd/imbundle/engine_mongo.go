package main

// MongoDB (and wire-compatible servers): mongodb:// and mongodb+srv:// URLs.
import (
	_ "github.com/imbundle/imbundle/exporter/mongo"
	_ "github.com/imbundle/imbundle/importer/mongo"
)
