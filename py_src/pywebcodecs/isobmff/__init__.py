"""ISO base media files: MP4, MOV, M4A (ISO/IEC 14496-12)."""
