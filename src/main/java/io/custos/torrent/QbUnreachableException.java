package io.custos.torrent;

import io.custos.run.CustosException;
import io.custos.run.ExitCode;

/**
 * qBittorrent could not be reached: no connection, no answer in time, or still a 5xx answer after
 * the retries (what a proxy in front of a qBittorrent that is down answers). Exit 5, like any other
 * qBittorrent failure; a caller that can wait for a restarting qBittorrent (the rehome undo) tells
 * it apart by its type.
 */
public final class QbUnreachableException extends CustosException {
    private static final long serialVersionUID = 1L;

    QbUnreachableException(String message, Throwable cause) {
        super(ExitCode.ENVIRONMENT, message, cause);
    }
}
