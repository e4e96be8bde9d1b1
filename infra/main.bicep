// Project invoice integration: everything `azd up` creates.
//
//   resource group
//   ├─ user-assigned managed identity (the app's only credential)
//   ├─ Log Analytics workspace + Application Insights (Entra ID ingestion only)
//   ├─ Storage account (Functions host storage + the product's tables; no shared keys)
//   ├─ Service Bus namespace with the four queues (no SAS keys unless asked for)
//   ├─ Key Vault (RBAC) holding posting-webhook-secret
//   └─ Flex Consumption plan (FC1) + Function App (Node 22), tagged azd-service-name=api
//      (TLS 1.2, FTP(S) off, basic publishing credentials off)
//
// Every role assignment is scoped to the one resource it is about; see the modules.
// The site, the namespace and the vault send their logs to the workspace (diagnostic settings).

targetScope = 'subscription'

// ---------------------------------------------------------------------------
// Environment
// ---------------------------------------------------------------------------

@minLength(1)
@maxLength(64)
@description('Name of the azd environment. Seeds the unique suffix of every resource name and the azd-env-name tag.')
param environmentName string

@minLength(1)
@description('Azure region for all resources. It must offer the Flex Consumption plan (az functionapp list-flexconsumption-locations).')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Name of the resource group to create. Empty means rg-{environmentName}.')
param resourceGroupName string = ''

// ---------------------------------------------------------------------------
// Function App
// ---------------------------------------------------------------------------

@description('Memory of each Flex Consumption instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Upper bound of Flex Consumption instances the app may scale out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('NCRONTAB schedule (six fields, seconds first) of Import from staging; app setting IMPORT_SCHEDULE.')
param importSchedule string = '0 */5 * * * *'

@description('"true": a proposal is imported seconds after its last billed sales actual (or header) is staged, through the import-requests queue; "false": only on IMPORT_SCHEDULE. App setting IMPORT_FAST_PATH.')
@allowed([
  'true'
  'false'
])
param importFastPath string = 'true'

@description('NCRONTAB schedule (six fields, seconds first) on which unsent accounting updates are sent again; app setting DISPATCH_SCHEDULE.')
param dispatchSchedule string = '30 */1 * * * *'

@description('Prefix for every table name (letters and digits, starting with a letter, at most 21 characters), to share one storage account between environments. Empty for none; app setting TABLE_PREFIX.')
@maxLength(21)
param tablePrefix string = ''

@description('Dataverse environment URL (https://<org>.crm.dynamics.com) the accounting updates are written back to. Empty: writeBackAccounting is switched off and the updates stay on queue actuals-accounting-updates; app setting DATAVERSE_URL.')
param dataverseUrl string = ''

@secure()
@description('Standard Webhooks secret(s) for the posting callback, whsec_..., space-separated during a rotation. Written to Key Vault secret posting-webhook-secret when not empty; when empty the secret is left as it is in the vault.')
param postingWebhookSecret string = ''

// ---------------------------------------------------------------------------
// Storage
// ---------------------------------------------------------------------------

@description('Redundancy of the storage account that holds the Functions host state and the product tables.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param storageSku string = 'Standard_LRS'

@description('Grant the app identity Storage Queue Data Contributor on the storage account. The product itself uses no storage queues; see infra/core/storage.bicep for why it is on by default.')
param grantStorageQueueAccess bool = true

// ---------------------------------------------------------------------------
// Service Bus
// ---------------------------------------------------------------------------

@description('Service Bus tier. Standard (base charge + operations) by default; Premium for dedicated capacity, VNet integration and larger messages.')
@allowed([
  'Standard'
  'Premium'
])
param serviceBusSku string = 'Standard'

@description('Messaging units when serviceBusSku is Premium. Ignored for Standard.')
@allowed([
  1
  2
  4
  8
  16
])
param serviceBusPremiumMessagingUnits int = 1

@description('ISO 8601 duration in which Service Bus drops a message whose MessageId it has already seen. Duplicate detection itself is switched on at queue creation and cannot be switched off or on later; the window can be changed (20 seconds to 7 days).')
param duplicateDetectionHistoryTimeWindow string = 'PT1H'

@description('Deliveries of a message before Service Bus dead-letters it. A transient failure throws, so this bounds the retries.')
@minValue(1)
@maxValue(2000)
param maxDeliveryCount int = 10

@description('ISO 8601 peek-lock duration of the queues (at most PT5M). The Functions host renews the lock while a function runs, up to maxAutoLockRenewalDuration in host.json.')
param lockDuration string = 'PT1M'

@description('ISO 8601 time to live of a message; an expired message is dead-lettered, never dropped.')
param messageTimeToLive string = 'P14D'

@description('Allow shared access signatures on the Service Bus namespace and create queue-scoped SAS rules for Dataverse (Send on the inbound queues, Listen on actuals-accounting-updates). Needed only for a Dataverse service endpoint registered with a SAS key; leave false when Dataverse sends through Power Automate with Microsoft Entra ID.')
param allowServiceBusSasForDataverse bool = false

// ---------------------------------------------------------------------------
// Monitoring
// ---------------------------------------------------------------------------

@description('Days the Log Analytics workspace keeps logs and telemetry.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

@description('E-mail address for the operations alerts (dead letters, quarantine, Error proposals, stalled import, failing write-back); empty: alerts show in the portal only.')
param alertEmail string = ''

@description('Client id of the Microsoft Entra app registration for signing in to the operations console; empty: no Entra sign-in (function key and operator key only).')
param entraClientId string = ''

@description('Minutes between two IMPORT_SCHEDULE runs; the stalled-import alert fires after three periods without a successful run.')
param importPeriodMinutes int = 5

// ---------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var functionAppName = 'func-api-${resourceToken}'
// Flex Consumption reads the deployed package from this blob container.
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}-${take(resourceToken, 7)}'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-api-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'core/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
    retentionInDays: logRetentionInDays
    appPrincipalId: identity.outputs.principalId
  }
}

module storage 'core/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    sku: storageSku
    deploymentContainerName: deploymentContainerName
    appPrincipalId: identity.outputs.principalId
    grantQueueAccess: grantStorageQueueAccess
  }
}

module serviceBus 'core/servicebus.bicep' = {
  name: 'servicebus'
  scope: rg
  params: {
    name: 'sb-${resourceToken}'
    location: location
    tags: tags
    sku: serviceBusSku
    premiumMessagingUnits: serviceBusPremiumMessagingUnits
    duplicateDetectionHistoryTimeWindow: duplicateDetectionHistoryTimeWindow
    maxDeliveryCount: maxDeliveryCount
    lockDuration: lockDuration
    messageTimeToLive: messageTimeToLive
    allowSasForDataverse: allowServiceBusSasForDataverse
    appPrincipalId: identity.outputs.principalId
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

module keyVault 'core/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: 'kv-${resourceToken}'
    location: location
    tags: tags
    postingWebhookSecret: postingWebhookSecret
    appPrincipalId: identity.outputs.principalId
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

module api 'app/function.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    serviceName: 'api'
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    identityPrincipalId: identity.outputs.principalId
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    storageAccountName: storage.outputs.name
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerName: deploymentContainerName
    serviceBusFullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
    postingWebhookSecretUri: keyVault.outputs.postingWebhookReferenceUri
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    importSchedule: importSchedule
    importFastPath: importFastPath
    dispatchSchedule: dispatchSchedule
    tablePrefix: tablePrefix
    dataverseUrl: dataverseUrl
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

// Microsoft Entra sign-in for the operations console (only with an app registration; see README "Operate it").
module authentication 'app/authentication.bicep' = if (!empty(entraClientId)) {
  name: 'authentication'
  scope: rg
  params: {
    siteName: api.outputs.name
    entraClientId: entraClientId
  }
}

module alerts 'core/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    location: location
    tags: tags
    namePrefix: 'alert-${resourceToken}'
    alertEmail: alertEmail
    applicationInsightsId: monitoring.outputs.applicationInsightsId
    serviceBusNamespaceId: serviceBus.outputs.id
    importPeriodMinutes: importPeriodMinutes
  }
}

// ---------------------------------------------------------------------------
// Outputs (azd writes them to .azure/<env>/.env)
// ---------------------------------------------------------------------------

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_NAME string = api.outputs.name
output SERVICE_API_NAME string = api.outputs.name
output SERVICE_API_URI string = api.outputs.uri
output AZURE_USER_ASSIGNED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output SERVICE_BUS_NAMESPACE string = serviceBus.outputs.name
output SERVICE_BUS_FULLY_QUALIFIED_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.applicationInsightsConnectionString
