@client @client-token-refresh @serial
Feature: Token refresh in the browser
  Clerk automatically handles token refresh: clerk-js keeps the session token fresh through the Frontend
  API, so a page left open past the token's lifetime still reaches protected API routes, with no handshake.

  @CL-401
  Scenario: A page left open for two token lifetimes keeps reaching the API
    Given I am signed in through the sign-in page
    When I stay on the data page for 2 token lifetimes, calling the GET API route from the page
    Then every call from the page succeeded with the API's data
    And clerk-js refreshed the session token through the Frontend API, with no handshake
