// Flex Consumption plan (FC1) and the Function App (Node 22, Azure Functions v4 Node model).
//
// Flex Consumption takes the runtime from functionAppConfig.runtime, the package
// location from functionAppConfig.deployment and the scale limits from
// functionAppConfig.scaleAndConcurrency. The settings the other plans use for those
// (FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION, WEBSITE_RUN_FROM_PACKAGE,
// WEBSITE_CONTENTSHARE, WEBSITE_NODE_DEFAULT_VERSION, ...) are deprecated on Flex
// Consumption and are deliberately absent below.

@description('Name of the Function App.')
param name string

@description('Name of the Flex Consumption plan.')
param planName string

@description('Azure region of the plan and the app.')
param location string

@description('Tags for the plan and the app.')
param tags object = {}

@description('azd service name from azure.yaml; the app is tagged azd-service-name with it so azd deploy finds it.')
param serviceName string = 'api'

@description('Resource id of the user-assigned managed identity the app runs as.')
param identityId string

@description('Client id of the user-assigned managed identity (for the __clientId settings).')
param identityClientId string

@description('Principal id of the user-assigned managed identity (for its role on the site itself).')
param identityPrincipalId string

@description('Memory of each instance, in MB.')
param instanceMemoryMB int = 2048

@description('Upper bound of instances.')
param maximumInstanceCount int = 100

@description('Name of the storage account used for AzureWebJobsStorage and the tables.')
param storageAccountName string

@description('Primary blob endpoint of that storage account (https://{account}.blob.{suffix}/).')
param storageBlobEndpoint string

@description('Primary table endpoint of that storage account (https://{account}.table.{suffix}/).')
param storageTableEndpoint string

@description('Blob container that holds the deployment package.')
param deploymentContainerName string

@description('Service Bus namespace host name, {namespace}.servicebus.windows.net.')
param serviceBusFullyQualifiedNamespace string

@description('Versionless Key Vault URI of secret posting-webhook-secret.')
param postingWebhookSecretUri string

@description('Application Insights connection string.')
param applicationInsightsConnectionString string

@description('NCRONTAB schedule of Import from staging.')
param importSchedule string

@description('NCRONTAB schedule of the accounting-update dispatch retry.')
param dispatchSchedule string

@description('App setting IMPORT_FAST_PATH: "true" imports a proposal as soon as its last actual or header is staged, "false" only on IMPORT_SCHEDULE.')
param importFastPath string = 'true'

@description('Prefix for every table name; empty for none.')
param tablePrefix string = ''

@description('Dataverse environment URL (https://<org>.crm.dynamics.com) for the accounting write-back; empty switches writeBackAccounting off and leaves the updates on the queue.')
param dataverseUrl string = ''

@description('Resource id of the Log Analytics workspace that receives the function logs.')
param logAnalyticsWorkspaceId string

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true // Linux
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': serviceName
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      // Deployment goes through azd's Microsoft Entra authenticated zip deploy; nothing uses FTP.
      ftpsState: 'Disabled'
    }
    // Key Vault references in app settings are resolved with this identity.
    keyVaultReferenceIdentity: identityId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        // No alwaysReady entries: instances start on demand (scale to zero).
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

// Every app setting of the Function App. Keys must be known to the config schema
// (shared/config.ts, settingsSchema) or be host-level settings listed in
// test/deploy/consistency.ts; the deploy tests fail otherwise.
var appSettings = {
  // Host storage and the product's tables, identity-based (no connection string).
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__tableServiceUri: storageTableEndpoint
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId

  // Service Bus connection "ServiceBusConnection", identity-based.
  ServiceBusConnection__fullyQualifiedNamespace: serviceBusFullyQualifiedNamespace
  ServiceBusConnection__credential: 'managedidentity'
  ServiceBusConnection__clientId: identityClientId

  // Timers.
  IMPORT_SCHEDULE: importSchedule
  DISPATCH_SCHEDULE: dispatchSchedule
  // Import fast path (functions/importProposal.ts, queue import-requests); off: lines only on IMPORT_SCHEDULE.
  IMPORT_FAST_PATH: importFastPath

  // Posting callback secret, from Key Vault (never stored in app settings).
  POSTING_WEBHOOK_SECRET: '@Microsoft.KeyVault(SecretUri=${postingWebhookSecretUri})'

  TABLE_PREFIX: tablePrefix

  // Operations: the Entra app role that may act, and when a posting counts as out of sync.
  OPS_OPERATOR_ROLE: 'Invoice.Operator'
  OUT_OF_SYNC_HOURS: '4'

  // Accounting write-back through the Dataverse Web API, as the app identity. Without an
  // environment URL the function is switched off, so the updates stay on the queue.
  DATAVERSE_URL: dataverseUrl
  DATAVERSE__credential: 'managedidentity'
  DATAVERSE__clientId: identityClientId
  // Native inbound messages: the project contract's lookup to its dual-write company (README, "Connect a real Dataverse").
  DATAVERSE_CONTRACT_COMPANY_COLUMN: 'msdyn_company'
  'AzureWebJobs.writeBackAccounting.Disabled': empty(dataverseUrl) ? 'true' : 'false'
  AZURE_FUNCTIONS_ENVIRONMENT: 'Production'

  // Pausing a flow (operations API): the app switches its own functions off and on through
  // AzureWebJobs.<function>.Disabled, changing these settings through Azure Resource Manager as
  // the app identity (role below). A change restarts the app; `azd provision` puts every setting
  // back as written here, which resumes a paused flow (docs/operations.md, "Pause and resume").
  OPS_TRIGGER_SWITCH: 'app-settings'
  OPS_ARM__credential: 'managedidentity'
  OPS_ARM__clientId: identityClientId

  // Telemetry with Microsoft Entra authentication as the app identity.
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

resource siteAppSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: appSettings
}

// Website Contributor on this one site, so the app may list and replace its own app settings
// (Microsoft.Web/sites/config/list/action and .../config/write) to pause and resume a flow. It can
// change nothing else: not the plan, not another site, not a role assignment.
var websiteContributorRoleId = 'de139f84-1756-47ae-9be6-808fbbe84772'

resource siteSettingsContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(site.id, identityPrincipalId, websiteContributorRoleId)
  scope: site
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', websiteContributorRoleId)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Basic (user name and password) publishing credentials off for both endpoints: azd
// deploys with a Microsoft Entra token, so no deployment path needs them.
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

// The host's and the functions' logs (including the CONFIGURATION ERROR lines at start)
// in the workspace, table FunctionAppLogs, next to Application Insights.
resource siteDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: site
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'FunctionAppLogs'
        enabled: true
      }
    ]
  }
}

output name string = site.name
output id string = site.id
output uri string = 'https://${site.properties.defaultHostName}'
