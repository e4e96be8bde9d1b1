// Azure Monitor alerts for the people who run the integration at month end: each rule is
// one thing that needs a person, with what to do in README's "Alerts". Log alerts query the
// app's own telemetry in Application Insights (the lines the functions write); the dead-letter
// alert reads Service Bus's metric. One action group e-mails them, when an address is given.

@description('Azure region of the alert rules (the action group is global).')
param location string

@description('Tags for the alert resources.')
param tags object = {}

@description('E-mail address that receives the alerts; empty: the rules fire in the portal only.')
param alertEmail string = ''

@description('Resource id of the Application Insights component the functions log to.')
param applicationInsightsId string

@description('Resource id of the Service Bus namespace.')
param serviceBusNamespaceId string

@description('Minutes between two scheduled Import from staging runs (IMPORT_SCHEDULE); three missed runs raise an alert.')
param importPeriodMinutes int = 5

@description('Prefix of the rule names, to tell environments apart.')
param namePrefix string

var notify = empty(alertEmail) ? [] : [actionGroup.id]

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmail)) {
  name: '${namePrefix}-ops'
  location: 'Global'
  tags: tags
  properties: {
    groupShortName: 'invoice-ops'
    enabled: true
    emailReceivers: [
      {
        name: 'operations'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

// Any message dead-lettered on any queue: Service Bus gave up after the max delivery count.
resource deadLettered 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-dead-lettered'
  location: 'global'
  tags: tags
  properties: {
    description: 'A message was dead-lettered: it failed every delivery. Replay it once the cause is fixed (README, Alerts).'
    severity: 1
    enabled: true
    scopes: [serviceBusNamespaceId]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          name: 'deadLetteredMessages'
          criterionType: 'StaticThresholdCriterion'
          metricNamespace: 'Microsoft.ServiceBus/namespaces'
          metricName: 'DeadletteredMessages'
          dimensions: [
            {
              name: 'EntityName'
              operator: 'Include'
              values: ['*']
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Maximum'
        }
      ]
    }
    autoMitigate: true
    actions: [for group in notify: { actionGroupId: group }]
  }
}

// Log alerts over the functions' own log lines and invocations.
var logAlerts = [
  {
    name: 'quarantine-growing'
    severity: 2
    description: 'Messages were quarantined: they broke their contract or a business rule. Read the reasons and correct them in Dataverse, or replay them edited (README, Alerts).'
    query: 'traces | where message has "quarantined message"'
    operator: 'GreaterThan'
    threshold: 0
    window: 'PT15M'
  }
  {
    name: 'proposal-in-error'
    severity: 2
    description: 'Import from staging put a proposal in Error (amount mismatch, wrong currency or invoice, too many actuals). Its reason says what to correct in Dataverse.'
    query: 'traces | where message matches regex @"^proposal [^ ]+: Error"'
    operator: 'GreaterThan'
    threshold: 0
    window: 'PT15M'
  }
  {
    name: 'no-successful-import'
    severity: 1
    description: 'Import from staging has not completed for three schedule periods: no proposal gets its lines. Check the function\'s failures and the storage account.'
    query: 'requests | where operation_Name == "importFromStaging" and success == true'
    operator: 'LessThan'
    threshold: 1
    window: 'PT${importPeriodMinutes * 3}M'
  }
  {
    name: 'write-back-failing'
    severity: 2
    description: 'The accounting write-back to Dataverse failed: the Web API refused or was unreachable. Check DATAVERSE_URL, the application user and its role.'
    query: 'requests | where operation_Name == "writeBackAccounting" and success == false'
    operator: 'GreaterThan'
    threshold: 0
    window: 'PT15M'
  }
]

resource logAlert 'Microsoft.Insights/scheduledQueryRules@2021-08-01' = [
  for rule in logAlerts: {
    name: '${namePrefix}-${rule.name}'
    location: location
    tags: tags
    kind: 'LogAlert'
    properties: {
      description: rule.description
      severity: rule.severity
      enabled: true
      scopes: [applicationInsightsId]
      evaluationFrequency: 'PT5M'
      windowSize: rule.window
      criteria: {
        allOf: [
          {
            query: rule.query
            timeAggregation: 'Count'
            operator: rule.operator
            threshold: rule.threshold
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      autoMitigate: true
      actions: {
        actionGroups: notify
      }
    }
  }
]

output ruleNames array = concat([deadLettered.name], [for (rule, i) in logAlerts: logAlert[i].name])
