// Microsoft Entra sign-in for the operations console and API (App Service
// authentication, "Easy Auth"). Deployed only when an app registration's client id
// is given (entraClientId). Requests without sign-in still reach the app
// (AllowAnonymous): the posting callback is signed by Finance, and every other HTTP
// function still needs its function key. A signed-in user's app roles arrive in
// x-ms-client-principal; the app lets the role OPS_OPERATOR_ROLE retry, pause,
// resume and run the import (shared/http/operator.ts). App Service strips that
// header from incoming requests while authentication is on, so it cannot be forged.

@description('Name of the Function App.')
param siteName string

@description('Client id of the Microsoft Entra app registration users sign in to (with the app role Invoice.Operator for operators).')
param entraClientId string

@description('Tenant of that app registration.')
param entraTenantId string = tenant().tenantId

resource site 'Microsoft.Web/sites@2024-04-01' existing = {
  name: siteName
}

resource auth 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: false
      unauthenticatedClientAction: 'AllowAnonymous'
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: entraClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${entraTenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            'api://${entraClientId}'
            entraClientId
          ]
        }
      }
    }
    login: {
      tokenStore: {
        enabled: true
      }
    }
  }
}
