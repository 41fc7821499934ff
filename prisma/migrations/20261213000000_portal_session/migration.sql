-- Portal sessions: a vendor embeds a tenant's dashboard in its own admin screen. A
-- single-use link (its token stored as a hash) signs a browser in with one role for a
-- while; the session's own secret (a hash too) is what the browser then sends.
CREATE TABLE "portal_session" (
  "id" UUID PRIMARY KEY,
  "tenant_id" UUID NOT NULL REFERENCES "tenant"("id") ON DELETE CASCADE,
  "role" "Role" NOT NULL,
  "link_hash" TEXT NOT NULL UNIQUE,
  "session_hash" TEXT UNIQUE,
  "allowed_origins" TEXT[] NOT NULL,
  "brand_name" TEXT,
  "brand_color" TEXT,
  "expires_at" TIMESTAMPTZ(3) NOT NULL,
  "used_at" TIMESTAMPTZ(3),
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now()
);
CREATE INDEX "portal_session_tenant_id_idx" ON "portal_session"("tenant_id");
CREATE INDEX "portal_session_expires_at_idx" ON "portal_session"("expires_at");
