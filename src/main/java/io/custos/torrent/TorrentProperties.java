package io.custos.torrent;

/** The parts of {@code /api/v2/torrents/properties} that matter for moving data: where and in what pieces. */
public record TorrentProperties(String savePath, long pieceSize, int piecesNum, int piecesHave, long totalSize) {}
