// "Alert me" presets: a webhook on Herald's own topic with a Slack- or Teams-shaped message;
// the person adds the channel's incoming-webhook URL.

const SLACK_TEXT = 'Herald: {{ event.action | replace: \'_\', \' \' }}: {{ data.webhookLabel }}{% if data.reason %}: {{ data.reason }}{% endif %}{% if data.lastMessage %} ({{ data.lastMessage }}){% endif %}';
export const ALERT_PRESETS: Array<{ name: string; label: string; events: string[]; template: string }> = [
  {
    name: 'Slack: a webhook is failing, paused or recovered',
    label: 'Alert Slack about webhooks',
    events: ['herald.webhook_failing', 'herald.webhook_deactivated', 'herald.webhook_recovered', 'herald.webhook_paused', 'herald.webhook_resumed'],
    template: `{"text": "${SLACK_TEXT}"}`,
  },
  {
    name: 'Slack: a delivery failed for good',
    label: 'Alert Slack about failed deliveries',
    events: ['herald.instance_failed'],
    template: `{"text": "${SLACK_TEXT}"}`,
  },
  {
    name: 'Microsoft Teams: a webhook is failing, paused or recovered',
    label: 'Alert Teams about webhooks',
    events: ['herald.webhook_failing', 'herald.webhook_deactivated', 'herald.webhook_recovered', 'herald.webhook_paused', 'herald.webhook_resumed'],
    template: `{"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": {"type": "AdaptiveCard", "version": "1.4", "body": [{"type": "TextBlock", "wrap": true, "text": "${SLACK_TEXT}"}]}}]}`,
  },
];

