"""Raw AAC in ADTS frames (``.aac`` files)."""
