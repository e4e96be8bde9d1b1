// Storage account for the Functions host (AzureWebJobsStorage) and the product's tables,
// plus the blob container Flex Consumption deploys the app package to.
// Shared keys are off: every caller authenticates with Microsoft Entra ID.

@description('Name of the storage account (3-24 lower-case letters and digits).')
param name string

@description('Azure region of the storage account.')
param location string

@description('Tags for the storage account.')
param tags object = {}

@description('Redundancy SKU of the storage account.')
param sku string = 'Standard_LRS'

@description('Name of the blob container that receives the Flex Consumption deployment package.')
param deploymentContainerName string

@description('Principal (object) id of the app identity that gets data-plane roles on this account.')
param appPrincipalId string

@description('Also grant Storage Queue Data Contributor (see the comment on the assignment).')
param grantQueueAccess bool = true

// Built-in roles.
var storageBlobDataOwnerRoleId = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var storageTableDataContributorRoleId = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
var storageQueueDataContributorRoleId = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'

resource storage 'Microsoft.Storage/storageAccounts@2024-01-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: sku
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2024-01-01' = {
  parent: storage
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2024-01-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

// Blob: the host keeps its keys, timer schedule status and singleton locks (one timer
// run at a time across instances) in blobs, and Flex Consumption reads the deployment
// package from the container above with this identity. Owner, not Contributor, because
// the host creates its containers.
resource blobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appPrincipalId, storageBlobDataOwnerRoleId)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwnerRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Tables: the product's proposals, lines, staged actuals, register, outbox and quarantine
// live in Table Storage (the app creates missing tables at start-up), and the host
// writes its diagnostic events to tables in the same account.
resource tableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appPrincipalId, storageTableDataContributorRoleId)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributorRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Queues: the product's own messaging is Service Bus, and its triggers (Service Bus,
// timer, HTTP) do not need storage queues. The Functions host does use queues in the
// AzureWebJobsStorage account for its own bookkeeping in some features (blob-trigger
// receipts and poison messages, Durable Functions work items); without this role those
// fail at runtime with 403s that are hard to trace back to RBAC. Granted by default so a
// host feature added later does not break in production; set grantStorageQueueAccess
// to false for the strict minimum.
resource queueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantQueueAccess) {
  name: guid(storage.id, appPrincipalId, storageQueueDataContributorRoleId)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributorRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output name string = storage.name
output id string = storage.id
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output tableEndpoint string = storage.properties.primaryEndpoints.table
output deploymentContainerName string = deploymentContainer.name
