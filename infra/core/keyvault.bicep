// Key Vault (Azure RBAC authorization) holding the posting callback's webhook secret.
// The Function App reads it through a Key Vault reference in app setting
// POSTING_WEBHOOK_SECRET, authenticating as the app identity (keyVaultReferenceIdentity).

@description('Name of the Key Vault (3-24 characters).')
param name string

@description('Azure region of the Key Vault.')
param location string

@description('Tags for the Key Vault.')
param tags object = {}

@secure()
@description('Value for secret posting-webhook-secret. Empty leaves the secret as it is (so a rotation done directly in Key Vault survives the next azd provision).')
param postingWebhookSecret string = ''

@description('Principal (object) id of the app identity, allowed to read secrets of this vault only.')
param appPrincipalId string

@description('Resource id of the Log Analytics workspace that receives the vault audit log.')
param logAnalyticsWorkspaceId string

var postingWebhookSecretName = 'posting-webhook-secret'

// Built-in role: Key Vault Secrets User (read secret values).
var keyVaultSecretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    publicNetworkAccess: 'Enabled'
  }
}

// Each deployment with a non-empty value adds a new version; the app reads the latest.
resource postingWebhookSecretResource 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(postingWebhookSecret)) {
  parent: vault
  name: postingWebhookSecretName
  properties: {
    value: postingWebhookSecret
    contentType: 'Standard Webhooks secret(s), whsec_..., space-separated'
  }
}

// Scoped to this vault only.
resource appSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, appPrincipalId, keyVaultSecretsUserRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUserRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Every access to the vault, including the platform resolving the Key Vault reference
// (a failed read there is why POSTING_WEBHOOK_SECRET stays unresolved).
resource vaultDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: vault
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'AuditEvent'
        enabled: true
      }
    ]
  }
}

output name string = vault.name
output vaultUri string = vault.properties.vaultUri
// Versionless: the Functions platform resolves the latest enabled version (re-read on
// restart and at least every 24 hours), so a rotation needs no change to app settings.
output postingWebhookReferenceUri string = '${vault.properties.vaultUri}secrets/${postingWebhookSecretName}'
