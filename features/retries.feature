@retries
Feature: Retries of API calls
  The API client retries GET, PUT and DELETE at most twice (limit 2) on 408, 429, 500, 502, 503 and 504.

  @RT-001
  Scenario Outline: A retried method succeeds after transient failures
    Given I am signed in
    And the API fails the next <failures> calls behind the <method> API route with <status>
    When I fetch the <method> API route
    Then the response status is 200
    And the API received <attempts> calls behind the <method> API route, each with my bearer token

    Examples:
      | method | status | failures | attempts |
      | GET    | 408    | 1        | 2        |
      | GET    | 429    | 2        | 3        |
      | GET    | 500    | 2        | 3        |
      | GET    | 502    | 1        | 2        |
      | GET    | 503    | 2        | 3        |
      | GET    | 504    | 2        | 3        |
      | PUT    | 408    | 2        | 3        |
      | PUT    | 429    | 1        | 2        |
      | PUT    | 500    | 2        | 3        |
      | PUT    | 502    | 2        | 3        |
      | PUT    | 503    | 1        | 2        |
      | PUT    | 504    | 2        | 3        |
      | DELETE | 408    | 2        | 3        |
      | DELETE | 429    | 2        | 3        |
      | DELETE | 500    | 1        | 2        |
      | DELETE | 502    | 2        | 3        |
      | DELETE | 503    | 2        | 3        |
      | DELETE | 504    | 1        | 2        |

  @RT-002
  Scenario Outline: Three failures reach the user as an error
    Given I am signed in
    And the API fails the next 3 calls behind the <method> API route with <status>
    When I fetch the <method> API route
    Then I see an error
    And the API received 3 calls behind the <method> API route, each with my bearer token

    Examples:
      | method | status |
      | GET    | 503    |
      | PUT    | 500    |
      | DELETE | 504    |

  @RT-003
  Scenario Outline: POST is never retried
    Given I am signed in
    And the API fails the next 2 calls behind the POST API route with <status>
    When I fetch the POST API route
    Then I see an error
    And the API received 1 call behind the POST API route, each with my bearer token

    Examples:
      | status |
      | 503    |
      | 500    |
      | 429    |

  @RT-004
  Scenario Outline: Other statuses are never retried
    Given I am signed in
    And the API fails the next 2 calls behind the <method> API route with <status>
    When I fetch the <method> API route
    Then I see an error
    And the API received 1 call behind the <method> API route, each with my bearer token

    Examples:
      | method | status |
      | GET    | 400    |
      | GET    | 401    |
      | GET    | 403    |
      | GET    | 404    |
      | GET    | 501    |
      | PUT    | 404    |
      | DELETE | 400    |

  @RT-005
  Scenario: The wait grows between attempts
    Given I am signed in
    And the API fails the next 2 calls behind the GET API route with 503
    When I fetch the GET API route
    Then the API received 3 calls behind the GET API route, each with my bearer token
    And the waits between API attempts grow

  @RT-006
  Scenario Outline: Retry-After is honoured
    Given I am signed in
    And the API fails the next 1 call behind the GET API route with <status> and Retry-After 1
    When I fetch the GET API route
    Then the response status is 200
    And the API received 2 calls behind the GET API route, each with my bearer token
    And the API attempts were at least 1 second apart

    Examples:
      | status |
      | 429    |
      | 503    |

  @RT-007
  Scenario: The server-rendered page retries like the API routes
    Given I am signed in
    And the API fails the next 2 calls behind the data page with 503
    When I open the data page
    Then the page shows the API's data
    And the API received 3 calls behind the data page, each with my bearer token
