-- Expired portal links and sessions are deleted by the background sweep a week after they
-- end (PortalService.sweepExpired): it finds them by their expiry.
CREATE INDEX portal_sessions_expiry ON portal_sessions (expires_at);
