"""MPEG-2 transport streams (ISO/IEC 13818-1)."""
