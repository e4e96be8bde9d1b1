// Service Bus namespace and the product's four queues (shared/queues.ts, QUEUES).
// The consistency tests in test/deploy/ read the queue names from serviceBusQueues
// below: keep every queue in that list, one `name:` per queue.

@description('Name of the Service Bus namespace (6-50 characters).')
param name string

@description('Azure region of the namespace.')
param location string

@description('Tags for the namespace.')
param tags object = {}

@description('Service Bus tier.')
@allowed([
  'Standard'
  'Premium'
])
param sku string = 'Standard'

@description('Messaging units when sku is Premium; ignored for Standard.')
param premiumMessagingUnits int = 1

@description('ISO 8601 duplicate detection window of every queue. Duplicate detection is on for every queue and cannot be turned off or on after a queue exists; the window can change.')
param duplicateDetectionHistoryTimeWindow string = 'PT1H'

@description('Deliveries of a message before it is dead-lettered.')
param maxDeliveryCount int = 10

@description('ISO 8601 peek-lock duration (at most PT5M).')
param lockDuration string = 'PT1M'

@description('ISO 8601 time to live of a message; expired messages are dead-lettered.')
param messageTimeToLive string = 'P14D'

@description('Allow SAS authentication and create queue-scoped SAS rules for Dataverse.')
param allowSasForDataverse bool = false

@description('Principal (object) id of the app identity.')
param appPrincipalId string

@description('Resource id of the Log Analytics workspace that receives the namespace logs.')
param logAnalyticsWorkspaceId string

// Built-in roles.
var serviceBusDataReceiverRoleId = '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
var serviceBusDataSenderRoleId = '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'

// Who does what on each queue. The app identity gets Receiver only where a function is
// triggered by the queue, Sender only where the app writes to it; Dataverse gets SAS
// rules only when allowSasForDataverse is true.
var serviceBusQueues = [
  {
    name: 'project-invoice-proposals' // in: confirmed pro forma invoices (syncInvoiceProposal)
    appReceives: true
    appSends: false
    dataverseSends: true
    dataverseListens: false
  }
  {
    name: 'project-actuals' // in: actuals (syncActuals)
    appReceives: true
    appSends: false
    dataverseSends: true
    dataverseListens: false
  }
  {
    name: 'actuals-accounting-updates' // out: accounting details for Dataverse after posting (writeBackAccounting reads it when DATAVERSE_URL is set)
    appReceives: true
    appSends: true
    dataverseSends: false
    dataverseListens: true
  }
  {
    name: 'import-requests' // the app's own: import one proposal now (importProposal), sent scheduled by syncActuals and syncInvoiceProposal
    appReceives: true
    appSends: true
    dataverseSends: false
    dataverseListens: false
  }
]

var standardSku = {
  name: 'Standard'
  tier: 'Standard'
}
var premiumSku = {
  name: 'Premium'
  tier: 'Premium'
  capacity: premiumMessagingUnits
}

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: sku == 'Premium' ? premiumSku : standardSku
  properties: {
    // No shared access keys unless a SAS-based Dataverse service endpoint needs them.
    disableLocalAuth: !allowSasForDataverse
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource queues 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = [
  for queue in serviceBusQueues: {
    parent: namespace
    name: queue.name
    properties: {
      // Immutable after creation: Service Bus cannot add or remove duplicate detection
      // on an existing queue (only the window can change). Senders set MessageId.
      requiresDuplicateDetection: true
      duplicateDetectionHistoryTimeWindow: duplicateDetectionHistoryTimeWindow
      maxDeliveryCount: maxDeliveryCount
      lockDuration: lockDuration
      defaultMessageTimeToLive: messageTimeToLive
      deadLetteringOnMessageExpiration: true
      requiresSession: false
      enablePartitioning: false
    }
  }
]

// Role assignments are scoped to single queues, not the namespace.
resource appReceives 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (queue, i) in serviceBusQueues: if (queue.appReceives) {
    name: guid(queues[i].id, appPrincipalId, serviceBusDataReceiverRoleId)
    scope: queues[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceBusDataReceiverRoleId)
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource appSends 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (queue, i) in serviceBusQueues: if (queue.appSends) {
    name: guid(queues[i].id, appPrincipalId, serviceBusDataSenderRoleId)
    scope: queues[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceBusDataSenderRoleId)
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

// Optional, for a Dataverse service endpoint registered with a SAS key: send-only rules
// on the inbound queues, a listen-only rule on the outbound queue. No namespace-wide rule.
resource dataverseSendRules 'Microsoft.ServiceBus/namespaces/queues/authorizationRules@2024-01-01' = [
  for (queue, i) in serviceBusQueues: if (allowSasForDataverse && queue.dataverseSends) {
    parent: queues[i]
    name: 'dataverse-send'
    properties: {
      rights: [
        'Send'
      ]
    }
  }
]

resource dataverseListenRules 'Microsoft.ServiceBus/namespaces/queues/authorizationRules@2024-01-01' = [
  for (queue, i) in serviceBusQueues: if (allowSasForDataverse && queue.dataverseListens) {
    parent: queues[i]
    name: 'dataverse-listen'
    properties: {
      rights: [
        'Listen'
      ]
    }
  }
]

// Management operations (queues created, changed, deleted) in every tier; data-plane
// audit (who sent or received, with which identity) exists on Premium only.
var operationalLogs = [
  {
    category: 'OperationalLogs'
    enabled: true
  }
]
var premiumAuditLogs = [
  {
    category: 'RuntimeAuditLogs'
    enabled: true
  }
]

resource namespaceDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: namespace
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logAnalyticsDestinationType: 'Dedicated' // AZMS* tables rather than AzureDiagnostics
    logs: sku == 'Premium' ? concat(operationalLogs, premiumAuditLogs) : operationalLogs
  }
}

output name string = namespace.name
output id string = namespace.id
// serviceBusEndpoint is https://{name}.servicebus.windows.net:443/ (cloud-specific suffix).
output fullyQualifiedNamespace string = split(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':')[0]
output queueNames array = [for queue in serviceBusQueues: queue.name]
