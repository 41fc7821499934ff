-- Request inspector: inboxes and the requests they captured.

CREATE TABLE "inbox" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "token" TEXT NOT NULL,
    "webhook_id" UUID,
    "respond_with" INTEGER NOT NULL DEFAULT 200,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "inbox_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "inbox_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "inbox_token_key" ON "inbox"("token");
CREATE INDEX "inbox_tenant_id_idx" ON "inbox"("tenant_id");

CREATE TABLE "inbox_request" (
    "id" UUID NOT NULL,
    "inbox_id" UUID NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "method" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "headers" JSONB NOT NULL,
    "body" TEXT NOT NULL,
    "body_truncated" BOOLEAN NOT NULL DEFAULT false,
    "signature_valid" BOOLEAN,
    "signature_message" TEXT,
    CONSTRAINT "inbox_request_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "inbox_request_inbox_id_fkey" FOREIGN KEY ("inbox_id") REFERENCES "inbox"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "inbox_request_inbox_id_id_idx" ON "inbox_request"("inbox_id", "id");
