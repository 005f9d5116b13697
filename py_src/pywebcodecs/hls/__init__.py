"""HTTP Live Streaming presentations (RFC 8216): playlists and their segments."""
